<#
.SYNOPSIS
    Builds the module's help from docs/help: en-US/BatchRequest.dll-Help.xml (MAML) and en-US/about_*.help.txt.
.DESCRIPTION
    The prose comes from the Markdown files in docs/help (platyPS layout: one <Cmdlet>.md per cmdlet, about_*.md for
    the concepts). What a cmdlet declares itself (parameter type, mandatory, position, pipeline input, aliases,
    parameter sets, accepted values) comes from Get-Command on the built module, so it is never written twice.

    A Markdown file for a cmdlet the module lacks, or a parameter section for a parameter it lacks, is left out and
    named in the output (another branch may be adding it). A parameter without a section still gets an entry, with
    no description; tests/Help.Tests.ps1 fails on it.

    The module is imported in a child pwsh: a loaded binary module cannot be unloaded, and the build that calls this
    script must stay free to rebuild it.
.EXAMPLE
    dotnet pwsh ./tools/Build-ModuleHelp.ps1 -ModuleDir ./out/BatchRequest
#>
[CmdletBinding()]
param(
    # The assembled module folder (holding BatchRequest.psd1); the help goes to its culture subfolder.
    [Parameter(Mandatory)] [string] $ModuleDir,

    # The Markdown sources.
    [string] $SourceDir = (Join-Path (Split-Path -Parent $PSScriptRoot) 'docs/help'),

    [string] $Culture = 'en-US',

    # Set when the script runs itself again in a child pwsh.
    [switch] $InChildProcess
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

if (-not $InChildProcess) {
    . (Join-Path (Split-Path -Parent $PSScriptRoot) 'tests/common.ps1')
    $pwsh = @(Get-PwshCommand)
    & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -File $PSCommandPath `
        -ModuleDir (Resolve-Path -LiteralPath $ModuleDir).ProviderPath -SourceDir $SourceDir -Culture $Culture -InChildProcess
    if ($LASTEXITCODE -ne 0) { throw "Building the help failed with exit code $LASTEXITCODE." }
    return
}

#region Markdown

$FenceLine = '^\s*```'

function Read-MarkdownBlock {
    <#
    .SYNOPSIS
        Splits Markdown into blocks: Heading (with Level), Paragraph, Item (a list item, with Marker and Indent),
        Code (with Language and Lines) and Table (with Rows). A YAML front matter is dropped.
    #>
    param([Parameter(Mandatory)] [AllowEmptyString()] [string[]] $Line)

    $blocks = [Collections.Generic.List[object]]::new()
    $i = 0
    if ($Line.Count -gt 0 -and $Line[0] -eq '---') {
        $i = 1
        while ($i -lt $Line.Count -and $Line[$i] -ne '---') { $i++ }
        $i++
    }

    $paragraph = $null
    while ($i -lt $Line.Count) {
        $text = $Line[$i]
        if ($text -match $FenceLine) {
            $language = ($text.Trim() -replace '^```', '').Trim()
            $code = [Collections.Generic.List[string]]::new()
            $indent = $text.Length - $text.TrimStart().Length
            $opening = $i + 1
            $i++
            while ($i -lt $Line.Count -and $Line[$i] -notmatch $FenceLine) {
                $code.Add($(if ($Line[$i].Length -ge $indent) { $Line[$i].Substring($indent) } else { $Line[$i].TrimStart() }))
                $i++
            }
            if ($i -ge $Line.Count) { throw "The code block that opens at line $opening is not closed." }
            $blocks.Add([pscustomobject]@{ Kind = 'Code'; Language = $language; Lines = $code.ToArray() })
            $paragraph = $null
        }
        elseif ($text -match '^(#{1,6})\s+(.+?)\s*#*\s*$') {
            $blocks.Add([pscustomobject]@{ Kind = 'Heading'; Level = $Matches[1].Length; Text = $Matches[2] })
            $paragraph = $null
        }
        elseif ($text -match '^\s*\|') {
            $rows = [Collections.Generic.List[object]]::new()
            while ($i -lt $Line.Count -and $Line[$i] -match '^\s*\|') {
                $cells = @(($Line[$i].Trim() -replace '^\||\|$', '') -split '(?<!\\)\|' | ForEach-Object { $_.Trim() -replace '\\\|', '|' })
                if (-not ($cells | Where-Object { $_ -notmatch '^:?-+:?$' })) { $i++; continue }
                $rows.Add($cells)
                $i++
            }
            $i--
            $blocks.Add([pscustomobject]@{ Kind = 'Table'; Rows = $rows.ToArray() })
            $paragraph = $null
        }
        elseif ($text -match '^(\s*)([-*+]|\d+\.)\s+(.*)$') {
            $paragraph = [pscustomobject]@{ Kind = 'Item'; Indent = $Matches[1].Length; Marker = $Matches[2]; Text = $Matches[3].Trim() }
            $blocks.Add($paragraph)
        }
        elseif ($text.Trim().Length -eq 0) {
            $paragraph = $null
        }
        elseif ($null -ne $paragraph) {
            # A continuation line, of a paragraph or of a list item.
            $paragraph.Text += ' ' + $text.Trim()
        }
        else {
            $paragraph = [pscustomobject]@{ Kind = 'Paragraph'; Text = $text.Trim() }
            $blocks.Add($paragraph)
        }
        $i++
    }
    $blocks.ToArray()
}

function Split-Section {
    <# Groups blocks under their headings of one level: an ordered list of Title and Blocks. #>
    param([object[]] $Block, [Parameter(Mandatory)] [int] $Level)

    $sections = [Collections.Generic.List[object]]::new()
    $current = $null
    foreach ($item in $Block) {
        if ($item.Kind -eq 'Heading' -and $item.Level -le $Level) {
            $current = if ($item.Level -eq $Level) { [pscustomobject]@{ Title = $item.Text; Blocks = [Collections.Generic.List[object]]::new() } }
            if ($current) { $sections.Add($current) }
        }
        elseif ($current) {
            $current.Blocks.Add($item)
        }
    }
    $sections.ToArray()
}

function ConvertTo-PlainText {
    <# Inline Markdown as console text: links become their text (and address when absolute), emphasis marks go. #>
    param([AllowEmptyString()] [string] $Text)

    $Text = [regex]::Replace($Text, '\[([^\]]+)\]\(([^)\s]+)\)', {
            param($match)
            if ($match.Groups[2].Value -match '^https?://') { "$($match.Groups[1].Value) ($($match.Groups[2].Value))" } else { $match.Groups[1].Value }
        })
    $Text = $Text -replace '\*\*(.+?)\*\*', '$1'
    $Text -replace '\\([\\`*_{}\[\]()#+\-.!|<>])', '$1'
}

function Format-TableText {
    <#
    .SYNOPSIS
        A Markdown table as text lines: columns aligned under a dashed line, and, when the table is wider than Width,
        the widest columns narrowed and their cells wrapped.
    #>
    param([Parameter(Mandatory)] [object[]] $Row, [int] $Width = 76)

    $cells = @(foreach ($r in $Row) { , @(@($r) | ForEach-Object { ConvertTo-PlainText $_ }) })
    $columns = ($cells | ForEach-Object { $_.Count } | Measure-Object -Maximum).Maximum
    $widths = [int[]]@(foreach ($c in 0..($columns - 1)) {
            ($cells | ForEach-Object { if ($c -lt $_.Count) { $_[$c].Length } else { 0 } } | Measure-Object -Maximum).Maximum
        })
    # Narrow the widest column by one character at a time, until the table fits or the widest is down to 12.
    while (($widths | Measure-Object -Sum).Sum + 2 * ($columns - 1) -gt $Width) {
        $widest = [array]::IndexOf($widths, [int]($widths | Measure-Object -Maximum).Maximum)
        if ($widths[$widest] -le 12) { break }
        $widths[$widest]--
    }
    for ($r = 0; $r -lt $cells.Count; $r++) {
        $wrapped = @(for ($c = 0; $c -lt $columns; $c++) {
                $text = if ($c -lt $cells[$r].Count) { $cells[$r][$c] } else { '' }
                , @(Format-Wrapped $text -Indent 0 -Width $widths[$c])
            })
        $height = ($wrapped | ForEach-Object { $_.Count } | Measure-Object -Maximum).Maximum
        for ($l = 0; $l -lt $height; $l++) {
            $parts = for ($c = 0; $c -lt $columns; $c++) { $(if ($l -lt $wrapped[$c].Count) { $wrapped[$c][$l] } else { '' }).PadRight($widths[$c]) }
            ($parts -join '  ').TrimEnd()
        }
        if ($r -eq 0) { ($widths | ForEach-Object { '-' * $_ }) -join '  ' }
    }
}

function Format-Wrapped {
    <# Wraps text at a width, the first line after Lead, the others indented as deep as Lead. #>
    param([AllowEmptyString()] [string] $Text, [int] $Indent, [string] $Lead = '', [int] $Width = 80)

    $first = (' ' * $Indent) + $Lead
    $rest = ' ' * $first.Length
    $line = $first
    foreach ($word in $Text -split '\s+' | Where-Object { $_ }) {
        if ($line.Length -gt $first.Length -and $line.Length + 1 + $word.Length -gt $Width) {
            $line
            $line = $rest + $word
        }
        else {
            $line = if ($line.Length -gt $first.Length) { "$line $word" } else { "$line$word" }
        }
    }
    $line
}

function Get-BlockParagraph {
    <# The paragraphs that blocks make in MAML: one per paragraph or list item, code and tables kept line by line. #>
    param([object[]] $Block)

    foreach ($item in $Block) {
        switch ($item.Kind) {
            'Paragraph' { ConvertTo-PlainText $item.Text }
            'Item' { (' ' * $item.Indent) + $(if ($item.Marker -match '\d') { $item.Marker } else { '-' }) + ' ' + (ConvertTo-PlainText $item.Text) }
            'Code' { ($item.Lines | ForEach-Object { "    $_" }) -join "`n" }
            'Table' { @(Format-TableText $item.Rows) -join "`n" }
            'Heading' { ConvertTo-PlainText $item.Text }
        }
    }
}

#endregion

#region Cmdlet help

$SectionNames = @('SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'RELATED LINKS')
# Everything else a parameter's YAML block could say comes from the cmdlet itself.
$ParameterKeys = @('Default value', 'Accept wildcard characters')

function Read-CommandHelp {
    <# Reads one cmdlet's Markdown into its name and its prose, section by section. #>
    param([Parameter(Mandatory)] [string] $Path)

    $blocks = Read-MarkdownBlock -Line @(Get-Content -LiteralPath $Path -Encoding utf8)
    $title = @($blocks | Where-Object { $_.Kind -eq 'Heading' -and $_.Level -eq 1 })
    if ($title.Count -ne 1) { throw "$Path must have exactly one '# <cmdlet name>' heading." }

    $help = [ordered]@{
        Name = $title[0].Text; Synopsis = @(); Description = @(); Examples = @(); Parameters = [ordered]@{}
        Inputs = @(); Outputs = @(); Notes = @(); Links = @()
    }
    foreach ($section in Split-Section -Block $blocks -Level 2) {
        $name = $section.Title.ToUpperInvariant()
        if ($name -notin $SectionNames) { throw "$Path has a section '## $($section.Title)'; the sections are $($SectionNames -join ', ')." }
        switch ($name) {
            'SYNOPSIS' { $help.Synopsis = @(Get-BlockParagraph $section.Blocks) }
            'DESCRIPTION' { $help.Description = @(Get-BlockParagraph $section.Blocks) }
            'NOTES' { $help.Notes = @(Get-BlockParagraph $section.Blocks) }
            'EXAMPLES' {
                $help.Examples = @(foreach ($example in Split-Section -Block $section.Blocks -Level 3) {
                        $code = @($example.Blocks | Where-Object Kind -EQ 'Code' | Select-Object -First 1)
                        if ($code.Count -eq 0) { throw "$Path, example '$($example.Title)' has no code block." }
                        [pscustomobject]@{
                            Title   = $example.Title
                            Code    = $code[0].Lines -join "`n"
                            Remarks = @(Get-BlockParagraph @($example.Blocks | Where-Object { $_ -ne $code[0] }))
                        }
                    })
            }
            'PARAMETERS' {
                foreach ($parameter in Split-Section -Block $section.Blocks -Level 3) {
                    if ($parameter.Title -match '^<?CommonParameters>?$') { continue }
                    if ($parameter.Title -notmatch '^-(\w+)$') { throw "$Path has a parameter section '### $($parameter.Title)'; write '### -Name'." }
                    $parameterName = $Matches[1]
                    $metadata = @{}
                    foreach ($yaml in @($parameter.Blocks | Where-Object { $_.Kind -eq 'Code' -and $_.Language -eq 'yaml' })) {
                        foreach ($entry in $yaml.Lines | Where-Object { $_.Trim() }) {
                            $key, $value = $entry -split ':', 2
                            if ($key.Trim() -notin $ParameterKeys) {
                                throw "$Path, -$($parameterName): '$($key.Trim())' comes from the cmdlet itself; the YAML block takes only $($ParameterKeys -join ' and ')."
                            }
                            $metadata[$key.Trim()] = "$value".Trim()
                        }
                    }
                    $help.Parameters[$parameterName] = [pscustomobject]@{
                        Description  = @(Get-BlockParagraph @($parameter.Blocks | Where-Object { -not ($_.Kind -eq 'Code' -and $_.Language -eq 'yaml') }))
                        DefaultValue = $metadata['Default value']
                        Globbing     = $metadata['Accept wildcard characters'] -eq 'True'
                    }
                }
            }
            { $_ -in 'INPUTS', 'OUTPUTS' } {
                $types = @(foreach ($type in Split-Section -Block $section.Blocks -Level 3) {
                        [pscustomobject]@{ TypeName = $type.Title; Description = @(Get-BlockParagraph $type.Blocks) }
                    })
                if ($name -eq 'INPUTS') { $help.Inputs = $types } else { $help.Outputs = $types }
            }
            'RELATED LINKS' {
                $help.Links = @(foreach ($block in $section.Blocks | Where-Object Kind -In 'Paragraph', 'Item') {
                        foreach ($link in [regex]::Matches($block.Text, '\[([^\]]+)\]\(([^)\s]*)\)')) {
                            [pscustomobject]@{ Text = $link.Groups[1].Value; Uri = $(if ($link.Groups[2].Value -match '^https?://') { $link.Groups[2].Value } else { '' }) }
                        }
                    })
            }
        }
    }
    [pscustomobject]$help
}

function Get-TypeLabel {
    <# The short type name Get-Help shows: String[], Int32, SwitchParameter; Nullable<T> shows as T. #>
    param([Parameter(Mandatory)] [type] $Type)
    $underlying = [Nullable]::GetUnderlyingType($Type)
    if ($underlying) { $Type = $underlying }
    $Type.Name
}

function Get-ParameterFact {
    <#
    .SYNOPSIS
        What the cmdlet declares about one parameter in one parameter set (or over all its sets, for the
        PARAMETERS section): required, position, pipeline input, aliases, type and accepted values.
    #>
    param(
        [Parameter(Mandatory)] [Management.Automation.ParameterMetadata] $Parameter,
        [Management.Automation.CommandParameterInfo] $InSet
    )

    $sets = @($Parameter.ParameterSets.Values)
    $required = if ($InSet) { $InSet.IsMandatory } else { @($sets | Where-Object { -not $_.IsMandatory }).Count -eq 0 }
    $position = if ($InSet) { $InSet.Position } else { ($sets | Sort-Object Position -Descending | Select-Object -First 1).Position }
    $byValue = if ($InSet) { $InSet.ValueFromPipeline } else { [bool]($sets | Where-Object ValueFromPipeline) }
    $byName = if ($InSet) { $InSet.ValueFromPipelineByPropertyName } else { [bool]($sets | Where-Object ValueFromPipelineByPropertyName) }
    $pipeline = @($(if ($byValue) { 'ByValue' }), $(if ($byName) { 'ByPropertyName' }) | Where-Object { $_ })

    $type = $Parameter.ParameterType
    $elementType = if ($type.IsArray) { $type.GetElementType() } else { $type }
    $elementType = if ([Nullable]::GetUnderlyingType($elementType)) { [Nullable]::GetUnderlyingType($elementType) } else { $elementType }
    $validateSet = $Parameter.Attributes | Where-Object { $_ -is [Management.Automation.ValidateSetAttribute] } | Select-Object -First 1
    $values = if ($validateSet) { @($validateSet.ValidValues) } elseif ($elementType.IsEnum) { [Enum]::GetNames($elementType) } else { @() }

    [pscustomobject]@{
        Required      = $required
        Position      = if ($position -ge 0) { "$position" } else { 'named' }
        PipelineInput = if ($pipeline.Count) { "True ($($pipeline -join ', '))" } else { 'False' }
        Aliases       = if ($Parameter.Aliases.Count) { $Parameter.Aliases -join ', ' } else { 'none' }
        TypeLabel     = Get-TypeLabel $type
        TypeName      = if ([Nullable]::GetUnderlyingType($type)) { [Nullable]::GetUnderlyingType($type).FullName } else { $type.FullName }
        IsArray       = $type.IsArray
        IsSwitch      = $Parameter.SwitchParameter
        Values        = @($values)
    }
}

$Ns = @{
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
    MSHelp  = 'http://msdn.microsoft.com/mshelp'
}

function Write-Paragraph {
    param([Parameter(Mandatory)] [Xml.XmlWriter] $Writer, [string] $Prefix = 'maml', [string] $Element = 'description', [string[]] $Paragraph)
    $Writer.WriteStartElement($Prefix, $Element, $Ns[$Prefix])
    foreach ($para in $Paragraph) { $Writer.WriteElementString('maml', 'para', $Ns.maml, $para) }
    $Writer.WriteEndElement()
}

function Write-ParameterElement {
    <# One <command:parameter>, as in the SYNTAX (per parameter set) or the PARAMETERS section. #>
    param(
        [Parameter(Mandatory)] [Xml.XmlWriter] $Writer,
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] $Fact,
        $Prose,
        [switch] $InSyntax
    )
    $Writer.WriteStartElement('command', 'parameter', $Ns.command)
    $Writer.WriteAttributeString('required', "$($Fact.Required)".ToLowerInvariant())
    $Writer.WriteAttributeString('variableLength', "$($Fact.IsArray)".ToLowerInvariant())
    $Writer.WriteAttributeString('globbing', "$($Prose -and $Prose.Globbing)".ToLowerInvariant())
    $Writer.WriteAttributeString('pipelineInput', $Fact.PipelineInput)
    $Writer.WriteAttributeString('position', $Fact.Position)
    $Writer.WriteAttributeString('aliases', $Fact.Aliases)
    $Writer.WriteElementString('maml', 'name', $Ns.maml, $Name)
    Write-Paragraph $Writer -Paragraph $(if ($Prose) { $Prose.Description } else { @() })
    if ($InSyntax -and $Fact.Values.Count) {
        $Writer.WriteStartElement('command', 'parameterValueGroup', $Ns.command)
        foreach ($value in $Fact.Values) {
            $Writer.WriteStartElement('command', 'parameterValue', $Ns.command)
            $Writer.WriteAttributeString('required', 'false')
            $Writer.WriteAttributeString('variableLength', 'false')
            $Writer.WriteString($value)
            $Writer.WriteEndElement()
        }
        $Writer.WriteEndElement()
    }
    # A switch takes no value; the syntax shows it bare.
    if (-not ($InSyntax -and $Fact.IsSwitch)) {
        $Writer.WriteStartElement('command', 'parameterValue', $Ns.command)
        $Writer.WriteAttributeString('required', "$(-not $Fact.IsSwitch)".ToLowerInvariant())
        $Writer.WriteAttributeString('variableLength', "$($Fact.IsArray)".ToLowerInvariant())
        $Writer.WriteString($Fact.TypeLabel)
        $Writer.WriteEndElement()
    }
    $Writer.WriteStartElement('dev', 'type', $Ns.dev)
    $Writer.WriteElementString('maml', 'name', $Ns.maml, $Fact.TypeName)
    $Writer.WriteElementString('maml', 'uri', $Ns.maml, '')
    $Writer.WriteEndElement()
    $default = if ($Prose -and $Prose.DefaultValue) { $Prose.DefaultValue } elseif ($Fact.IsSwitch) { 'False' } else { 'None' }
    $Writer.WriteElementString('dev', 'defaultValue', $Ns.dev, $default)
    $Writer.WriteEndElement()
}

function Write-CommandHelp {
    <# One <command:command>: the cmdlet's prose from Markdown around the facts from Get-Command. #>
    param([Parameter(Mandatory)] [Xml.XmlWriter] $Writer, [Parameter(Mandatory)] $Command, $Help)

    # -WhatIf and -Confirm are documented with the cmdlet, as Get-Help shows them in its syntax.
    $common = [Management.Automation.PSCmdlet]::CommonParameters
    $Writer.WriteStartElement('command', 'command', $Ns.command)
    foreach ($prefix in 'maml', 'command', 'dev', 'MSHelp') { $Writer.WriteAttributeString('xmlns', $prefix, $null, $Ns[$prefix]) }

    $Writer.WriteStartElement('command', 'details', $Ns.command)
    $Writer.WriteElementString('command', 'name', $Ns.command, $Command.Name)
    $Writer.WriteElementString('command', 'verb', $Ns.command, $Command.Verb)
    $Writer.WriteElementString('command', 'noun', $Ns.command, $Command.Noun)
    Write-Paragraph $Writer -Paragraph $(if ($Help) { $Help.Synopsis } else { @() })
    $Writer.WriteEndElement()
    Write-Paragraph $Writer -Paragraph $(if ($Help) { $Help.Description } else { @() })

    $prose = if ($Help) { $Help.Parameters } else { @{} }
    $Writer.WriteStartElement('command', 'syntax', $Ns.command)
    foreach ($set in @($Command.ParameterSets | Sort-Object { -not $_.IsDefault })) {
        $Writer.WriteStartElement('command', 'syntaxItem', $Ns.command)
        $Writer.WriteElementString('maml', 'name', $Ns.maml, $Command.Name)
        # As Get-Command -Syntax orders them: positional by position, then mandatory, then the rest as declared.
        $inSet = @($set.Parameters | Where-Object Name -NotIn $common)
        $ordered = @($inSet | Where-Object Position -GE 0 | Sort-Object Position) +
            @($inSet | Where-Object { $_.Position -lt 0 -and $_.IsMandatory }) +
            @($inSet | Where-Object { $_.Position -lt 0 -and -not $_.IsMandatory })
        foreach ($parameter in $ordered) {
            $fact = Get-ParameterFact -Parameter $Command.Parameters[$parameter.Name] -InSet $parameter
            Write-ParameterElement $Writer -Name $parameter.Name -Fact $fact -Prose $prose[$parameter.Name] -InSyntax
        }
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    # The Markdown's order, then whatever it does not describe yet.
    $names = @($prose.Keys | Where-Object { $Command.Parameters.ContainsKey($_) }) +
        @($Command.Parameters.Keys | Where-Object { $_ -notin $common -and -not $prose.Contains($_) })
    $Writer.WriteStartElement('command', 'parameters', $Ns.command)
    foreach ($name in $names) {
        Write-ParameterElement $Writer -Name $name -Fact (Get-ParameterFact -Parameter $Command.Parameters[$name]) -Prose $prose[$name]
    }
    $Writer.WriteEndElement()

    foreach ($kind in @(@{ List = 'inputTypes'; Item = 'inputType'; Types = 'Inputs' }, @{ List = 'returnValues'; Item = 'returnValue'; Types = 'Outputs' })) {
        $Writer.WriteStartElement('command', $kind.List, $Ns.command)
        foreach ($type in $(if ($Help) { $Help.($kind.Types) } else { @() })) {
            $Writer.WriteStartElement('command', $kind.Item, $Ns.command)
            $Writer.WriteStartElement('dev', 'type', $Ns.dev)
            $Writer.WriteElementString('maml', 'name', $Ns.maml, $type.TypeName)
            $Writer.WriteEndElement()
            Write-Paragraph $Writer -Paragraph $type.Description
            $Writer.WriteEndElement()
        }
        $Writer.WriteEndElement()
    }

    $Writer.WriteStartElement('maml', 'alertSet', $Ns.maml)
    Write-Paragraph $Writer -Element 'alert' -Paragraph $(if ($Help) { $Help.Notes } else { @() })
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'examples', $Ns.command)
    foreach ($example in $(if ($Help) { $Help.Examples } else { @() })) {
        $Writer.WriteStartElement('command', 'example', $Ns.command)
        $Writer.WriteElementString('maml', 'title', $Ns.maml, "--------- $($example.Title) ---------")
        $Writer.WriteElementString('dev', 'code', $Ns.dev, $example.Code)
        # The empty paragraph keeps a blank line between one example's remarks and the next title.
        Write-Paragraph $Writer -Prefix 'dev' -Element 'remarks' -Paragraph (@($example.Remarks) + '')
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'relatedLinks', $Ns.command)
    # A link to a cmdlet this build lacks (another branch is adding it) waits until the cmdlet is there.
    $links = if ($Help) { $Help.Links | Where-Object { $_.Uri -or $_.Text -like 'about_*' -or (Get-Command $_.Text -ErrorAction Ignore) } }
    foreach ($link in $links) {
        $Writer.WriteStartElement('maml', 'navigationLink', $Ns.maml)
        $Writer.WriteElementString('maml', 'linkText', $Ns.maml, $link.Text)
        $Writer.WriteElementString('maml', 'uri', $Ns.maml, $link.Uri)
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteEndElement()
}

#endregion

#region About topics

function ConvertTo-AboutText {
    <#
    .SYNOPSIS
        An about_*.md as the plain text Get-Help shows: TOPIC, then level-2 headings in capitals at the margin,
        level-3 headings two columns in, text wrapped at 80 columns four in, code eight in.
    #>
    param([Parameter(Mandatory)] [string] $Path)

    $blocks = Read-MarkdownBlock -Line @(Get-Content -LiteralPath $Path -Encoding utf8)
    $out = [Collections.Generic.List[string]]::new()
    $afterHeading = $false
    $previous = $null
    foreach ($block in $blocks) {
        # A blank line between blocks, except right under a heading and between the items of one list.
        $sameList = $block.Kind -eq 'Item' -and $previous -and $previous.Kind -eq 'Item'
        if ($out.Count -and ($block.Kind -eq 'Heading' -or -not ($afterHeading -or $sameList))) { $out.Add('') }
        $afterHeading = $block.Kind -eq 'Heading'
        switch ($block.Kind) {
            'Heading' {
                switch ($block.Level) {
                    1 { $out.Add('TOPIC'); $out.Add("    $($block.Text)") }
                    2 { $out.Add($block.Text.ToUpperInvariant()) }
                    default { $out.Add("  $(ConvertTo-PlainText $block.Text)") }
                }
            }
            'Paragraph' { Format-Wrapped (ConvertTo-PlainText $block.Text) -Indent 4 | ForEach-Object { $out.Add($_) } }
            'Item' {
                $marker = if ($block.Marker -match '\d') { "$($block.Marker) " } else { '- ' }
                Format-Wrapped (ConvertTo-PlainText $block.Text) -Indent (4 + $block.Indent) -Lead $marker | ForEach-Object { $out.Add($_) }
            }
            'Code' { $block.Lines | ForEach-Object { $out.Add("        $_".TrimEnd()) } }
            'Table' { Format-TableText $block.Rows -Width 76 | ForEach-Object { $out.Add("    $_") } }
        }
        $previous = $block
    }
    ($out -join [Environment]::NewLine) + [Environment]::NewLine
}

#endregion

$manifest = Get-ChildItem -LiteralPath $ModuleDir -Filter '*.psd1' | Select-Object -First 1
$module = Import-Module $manifest.FullName -PassThru
$outDir = New-Item -ItemType Directory -Path (Join-Path $ModuleDir $Culture) -Force
$leftOut = [Collections.Generic.List[string]]::new()

$sources = @{}
foreach ($file in Get-ChildItem -LiteralPath $SourceDir -Filter '*.md' | Where-Object Name -NotMatch '^(about_|README)') {
    $help = Read-CommandHelp -Path $file.FullName
    if ($help.Name -ne $file.BaseName) { throw "$($file.Name) documents '$($help.Name)'; name the file after the cmdlet." }
    $sources[$help.Name] = $help
}

$commands = @(Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name)
foreach ($group in $commands | Group-Object { [IO.Path]::GetFileName($_.DLL) }) {
    $settings = [Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [Text.UTF8Encoding]::new($false) }
    $writer = [Xml.XmlWriter]::Create((Join-Path $outDir "$($group.Name)-Help.xml"), $settings)
    try {
        $writer.WriteStartDocument()
        $writer.WriteStartElement('helpItems', 'http://msh')
        $writer.WriteAttributeString('schema', 'maml')
        foreach ($command in $group.Group) {
            $help = $sources[$command.Name]
            if ($help) {
                $help.Parameters.Keys | Where-Object { -not $command.Parameters.ContainsKey($_) } | ForEach-Object { $leftOut.Add("$($command.Name) -$_") }
            }
            Write-CommandHelp $writer -Command $command -Help $help
        }
        $writer.WriteEndElement()
        $writer.WriteEndDocument()
    }
    finally {
        $writer.Dispose()
    }
}
$sources.Keys | Where-Object { $_ -notin $commands.Name } | ForEach-Object { $leftOut.Add("$_ (the whole cmdlet)") }

$topics = @(Get-ChildItem -LiteralPath $SourceDir -Filter 'about_*.md')
foreach ($topic in $topics) {
    $text = ConvertTo-AboutText -Path $topic.FullName
    [IO.File]::WriteAllText((Join-Path $outDir "$($topic.BaseName).help.txt"), $text, [Text.UTF8Encoding]::new($false))
}

Write-Host "Help for $($commands.Count) cmdlets and $($topics.Count) about topics written to $outDir"
if ($leftOut.Count) {
    Write-Host "Documented but not in this build, so left out: $($leftOut -join '; ')"
}
